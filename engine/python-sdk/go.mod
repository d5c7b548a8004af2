module example.invalid/engine/python-sdk

// Pins the Go module github.com/pulumi/pulumi/sdk/v3 at the version of the
// Python SDK in requirements.txt (pulumi==3.272.0). build.sh copies the
// Python-side scripts of that release from the module directory:
// python/cmd/pulumi-language-python-exec, python/dist/pulumi-resource-pulumi-python.
// Nothing is compiled from this module.
go 1.26.6

require github.com/pulumi/pulumi/sdk/v3 v3.272.0
