"""Run a collection module's main() in-process, the way Ansible runs it on a host.

The arguments go in through AnsibleModule's own test hook; the JSON the module prints on exit
(exit_json or fail_json) comes back parsed. An exception that escapes main() propagates to the
test: that is the traceback a user would have seen instead of a message.
"""

import contextlib
import io
import json

from ansible.module_utils.testing import patch_module_args


def run_module(main, args):
    """(exit code, result) of one run of `main` with `args`."""
    printed = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(printed):
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        else:
            raise AssertionError("the module returned without calling exit_json or fail_json")
    return code, json.loads(printed.getvalue())
