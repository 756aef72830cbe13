from test_policy_engine.cli.main import main

raise SystemExit(main())
