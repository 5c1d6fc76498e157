"""Local views of a run: the console table, the notebook widget and its html/text fallback."""
