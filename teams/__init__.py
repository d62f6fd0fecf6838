"""The edge to Teams and the Bot Framework SDK: every botbuilder/botframework/msrest import lives here."""
