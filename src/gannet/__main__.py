from gannet.cli import main

raise SystemExit(main())
