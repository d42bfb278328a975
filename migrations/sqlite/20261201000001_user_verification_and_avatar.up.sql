-- Profile state the email flows (verification, confirmed email change) and avatars need.
-- avatar_name is the unguessable name of the user's current avatar, or NULL.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN pending_email TEXT;
ALTER TABLE users ADD COLUMN avatar_name TEXT;
