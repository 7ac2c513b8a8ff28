from proeftuin import create_app
app = create_app()
