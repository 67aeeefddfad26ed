"""The one table of ``harken --headless`` exit codes (the README's and ``--help``'s).

Scripts branch on them, so each means one thing:

====  =====================================================================
0     the input ended and every turn is over (a turn that failed is an
      event on stdout, not an exit code)
1     fatal: the run could not go on (the input file could not be decoded,
      the speech models could not load, the microphone failed)
2     usage or configuration: a bad flag, a missing or unreadable
      ``--input``, no provider, no model, no key, a base URL that is not
      one — found before the models load, one line on stderr
130   stopped by SIGINT (Ctrl+C); 143: stopped by SIGTERM (128 + signal)
====  =====================================================================

The window exits 0 however it is quit, signals included (a logout is a quit).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_SIGNAL_BASE = 128  # + the signal's number: 130 SIGINT, 143 SIGTERM

EPILOG = (
    "Exit codes (--headless): 0 the input ended and the turns are over; 1 fatal (bad "
    "audio, models failed to load); 2 usage or configuration error (bad flag, missing or "
    "unreadable --input, no provider/model/key, invalid --base-url); 130 Ctrl+C, 143 SIGTERM."
)
