"""Reports: what happened to the pickups of a range of days, what the hub recovered, as tables, charts and CSV."""
