from txbackup.cli import main

raise SystemExit(main())
