"""The pure core: report state -> one text (and one chart). No I/O, no threads, and no import
of any other part of slacknb."""
