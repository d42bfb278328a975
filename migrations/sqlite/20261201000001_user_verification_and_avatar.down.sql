ALTER TABLE users DROP COLUMN avatar_name;
ALTER TABLE users DROP COLUMN pending_email;
ALTER TABLE users DROP COLUMN email_verified;
