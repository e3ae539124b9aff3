# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""python -m cloudphone_drill <phase> ...: see cli.py."""

import sys

from cloudphone_drill.cli import main

sys.exit(main())
