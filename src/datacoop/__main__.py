from datacoop.cli import main

main()
