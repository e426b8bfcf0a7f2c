"""`python -m pylvs` is the `pylvs` command."""

import gc

gc.disable()  # while the program imports: `main` says why, and turns it on for the command

from pylvs.cli.main import main  # noqa: E402

raise SystemExit(main())
