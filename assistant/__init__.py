"""The assistant: who answers a turn, built from the plain layers below it.

`assistant.conversation.Conversation` decides, for one typed message or button press, whether the
guide (`dialogs`), a pending clarification or the knowledge base (`knowledge`) answers, whether a
question goes to people (`helpdesk.handoff`), and has the answer rendered (`cards`). It is its own
package because it sits *above* `dialogs`, `knowledge`, `cards` and `helpdesk`: put inside
`dialogs/` it would make `dialogs` and `cards` import each other (cards render dialogs' replies).
No SDK here: `teams.handler` feeds it a `TurnInput` and the typed `UserState`.
"""
