module github.com/sesame-secrets/sesame/go

go 1.21
