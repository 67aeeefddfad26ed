"""The desktop app (Qt): start-up and shutdown, the bridge to the agent core, the window
and its parts, global hotkey, one instance, earcons. The only package that imports Qt.

- ``gui``: start-up, qasync loop, shutdown; ``bridge``: controller events ↔ Qt signals
- ``wiring``: window, tray, hotkey and earcons connected to a bridge in one call
- ``window/``: main window, menus, tray, About, theme and style, icons
- ``conversation/``: the conversation view, its model, Markdown, the history list
- ``settings/``: the Settings dialog and its pages
- ``controls/``: push-to-talk button and keys, level meter, state indicator, text box
"""
