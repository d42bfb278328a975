-- Names used to fall back to the local part of the user's email, which leaked it to every room
-- member. Forget every cached name: each one comes back from Warren (the full name, or a neutral
-- placeholder) the next time its user signs in, and until then past messages show the placeholder.
DELETE FROM display_names;
