"""The agent core: utterances and typed text in, turns, barge-in and tools out.

Plain asyncio, no Qt (``tests/test_layering.py`` keeps it so): the window and
headless mode drive the same controller. The barge-in decision lives in
``barge_in``; the way of one utterance is capture → ``input_pump`` →
``live_transcription`` → ``controller`` → ``barge_in`` → ``scheduler``.
"""
