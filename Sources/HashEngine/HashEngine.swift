// HashEngine: implementation follows.
