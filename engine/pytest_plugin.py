"""pytest plugin (entry point `test_policy`): inert where no policy is found."""
