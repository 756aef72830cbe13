try:
    from test_policy_engine.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while importing: as quiet as later (main returns 130)
    raise SystemExit(130) from None

raise SystemExit(main())
