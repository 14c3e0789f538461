from okedoctor.cli import main

main()
