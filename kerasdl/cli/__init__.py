"""The `kerasdl` command (`kerasdl.cli:main`): one module per subcommand.

`app` parses the command line and dispatches; `environment` sets up the process
before Keras is imported; `common` holds what subcommands share. Importing this
package imports no Keras.
"""

from kerasdl.cli.app import COMMANDS, build_parser, main
from kerasdl.cli.common import CLIError

__all__ = ["COMMANDS", "CLIError", "build_parser", "main"]
