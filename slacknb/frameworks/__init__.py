"""One module per training framework: each turns its trainer's lifecycle into a ReportRun."""
