// The finest split's link check (`make check-link`): this TU holds only main(); the
// implementation comes from its TOKIO_IMPLEMENTATION_MAX_SPLIT parts, every one of them
// linked, and user_tu.cpp is the user file. Each part parses only the headers its own
// files include, so a file that relied on another file's include to see a definition
// fails to compile or to link here.
int run_user_tu();

int main() { return run_user_tu() == 42 ? 0 : 1; }
