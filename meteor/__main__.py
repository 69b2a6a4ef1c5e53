"""``python -m meteor``: the ``meteor`` command (meteor/entry.py)."""

from meteor.entry import main

main()
