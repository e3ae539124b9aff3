"""Walk a role's or playbook's task list the way Ansible nests it."""


def tasks_in(items):
    """Every task, blocks included (a block first yields its tasks, then itself)."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        for key in ("block", "rescue", "always"):
            yield from tasks_in(item.get(key))
        yield item


def leaf_tasks(items):
    """The tasks that call a module or an include: blocks opened, not yielded."""
    return (task for task in tasks_in(items) if not any(key in task for key in ("block", "rescue", "always")))
