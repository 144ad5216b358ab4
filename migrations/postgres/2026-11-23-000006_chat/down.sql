DROP TABLE chat_messages;
DROP TABLE conversation_members;
DROP TABLE conversations;
