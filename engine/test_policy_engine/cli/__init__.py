"""The `test-policy` command (`main`) and one module per subcommand: HELP,
add_arguments(parser), run(args) -> int. `files` holds the atomic writes they share."""
