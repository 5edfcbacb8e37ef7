fn main() -> std::process::ExitCode {
    voicetwin::cli::main()
}
