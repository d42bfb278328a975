DROP TABLE display_names;
DROP TABLE reactions;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE rooms;
