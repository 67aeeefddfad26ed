"""The Harken application: the agent controller, headless mode, and the Qt desktop app.

``controller`` / ``turn`` / ``input_pump`` are plain asyncio (no Qt) and are
composed with ``audio`` and ``providers`` in ``composition``; ``bridge``,
``gui`` and ``ui`` are the Qt side; ``cli`` is the ``harken`` command.
"""
