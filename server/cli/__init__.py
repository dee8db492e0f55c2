"""The `cody-batch` command line: commands, rendering, job input and the GraphQL client it uses."""
