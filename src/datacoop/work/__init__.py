"""Work: assignment with leases and overlap, heartbeats and active time, submissions."""
