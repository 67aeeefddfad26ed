"""The conversation as the window shows it: the view, its model, Markdown, the history list."""
