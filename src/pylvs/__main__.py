"""`python -m pylvs` is the `pylvs` command."""

from pylvs.cli.main import main

raise SystemExit(main())
