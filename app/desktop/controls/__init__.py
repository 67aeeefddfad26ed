"""The window's controls: push-to-talk button and key handling, level meter, state, text box."""
