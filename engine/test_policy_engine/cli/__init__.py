"""One module per `test-policy` subcommand: HELP, add_arguments(parser), run(args) -> int."""
