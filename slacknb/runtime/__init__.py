"""The bottom of the house: the one clock and the one background-worker primitive."""
