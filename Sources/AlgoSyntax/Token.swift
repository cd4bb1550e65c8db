// AlgoSyntax: tokens, lexer, AST, parser, formatter.
