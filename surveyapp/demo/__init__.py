"""The demo study: a Dutch Delphi study on human trafficking, three rounds, ready to explore."""
