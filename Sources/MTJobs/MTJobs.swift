// MTJobs: implementation follows.
