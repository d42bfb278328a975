DROP INDEX users_created_at_idx;
DROP TABLE rate_limits;
