"""The fleet report: every exposed Service of a cluster diagnosed over one collection pass."""
