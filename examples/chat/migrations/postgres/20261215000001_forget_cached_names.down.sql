-- Nothing to restore: the forgotten names were a cache of Warren's, refilled on sign-in.
SELECT 1;
