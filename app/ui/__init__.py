"""The desktop window and its parts (Qt). Nothing outside ``app`` imports this package.

Importing it first protects the process from PySide6 6.12.0's reference
leak on Python 3.11 (see ``qt_compat``).
"""

from . import qt_compat

qt_compat.apply()
