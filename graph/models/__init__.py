"""The offline model, the guard around a configured one, and the answers they compose (the model
factory is ``factory.make_chat_model``). Importing the package loads none of them."""
