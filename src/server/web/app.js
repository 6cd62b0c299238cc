// The UI comes here.
