from gannet.console import main

raise SystemExit(main())
