// SerialJobs: implementation follows.
