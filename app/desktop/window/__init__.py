"""The main window and what frames it: menus, tray, About, theme, style, icons."""
