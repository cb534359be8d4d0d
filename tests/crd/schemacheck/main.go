// schemacheck validates the TrainingJob CRD and sample objects offline, with the API server's
// own code (k8s.io/apiextensions-apiserver), without starting a server:
//
//  1. the CRD as `kubectl apply` of it would be checked: strict decoding (a misspelt schema
//     keyword is an error), structural schema rules, defaults, CEL compilation and cost;
//  2. each YAML document of the object files as a create request is handled: unknown fields
//     pruned, defaults applied, then OpenAPI, metadata, list-type and CEL validation (CEL is
//     skipped after "blocking" errors, as the server does).
//
// A document's expected outcome is the annotation test.ringtrain.io/api-error: absent, the
// object must be accepted; present, the aggregated error text must contain its value.
//
// Usage: schemacheck [-defaulted DIR] CRD.yaml OBJECTS.yaml...
// With -defaulted, every accepted object is written as DIR/<n>-<name>.json after defaulting,
// which is what the operator reads back (check_crd_schema.sh feeds them to the C++ parser).
// Prints one line per failure (all lines with -v) and "N passed, M failed" last; exit status
// 1 when anything failed, 2 on usage errors.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

const expectAnnotation = "test.ringtrain.io/api-error"

// checker holds what the API server derives from the CRD for one version.
type checker struct {
	structural *structuralschema.Structural
	openapi    apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func loadCRD(path string) (*checker, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v1crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(raw, &v1crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&v1crd)
	var crd apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1crd, &crd, nil); err != nil {
		return nil, fmt.Errorf("%s: conversion: %w", path, err)
	}
	if errs := validation.ValidateCustomResourceDefinition(context.Background(), &crd); len(errs) > 0 {
		return nil, fmt.Errorf("%s: rejected: %w", path, errs.ToAggregate())
	}
	if len(crd.Spec.Versions) != 1 {
		return nil, fmt.Errorf("%s: expected exactly one version", path)
	}
	v := crd.Spec.Versions[0].Schema
	if v == nil {
		v = crd.Spec.Validation // identical per-version schemas are hoisted by the conversion
	}
	s, err := structuralschema.NewStructural(v.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: structural: %w", path, err)
	}
	openapi, _, err := apiservervalidation.NewSchemaValidator(v.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: schema validator: %w", path, err)
	}
	return &checker{structural: s, openapi: openapi, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}, nil
}

// admit applies pruning and defaulting to u in place and returns the validation errors, in
// the order of customResourceStrategy.Validate.
func (c *checker) admit(u map[string]interface{}) field.ErrorList {
	structuralpruning.Prune(u, c.structural, true)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, c.structural)
	structuraldefaulting.Default(u, c.structural)
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u, c.openapi)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u, c.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, c.structural, u)...)
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return errs // blocking: the server skips CEL rules
		}
	}
	celErrs, _ := c.cel.Validate(context.Background(), nil, c.structural, u, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// decode converts one YAML document as kubectl and the server do: YAML to JSON, then
// integers as int64 and other numbers as float64. Returns nil for an empty document.
func decode(doc []byte) (map[string]interface{}, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var v interface{}
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	u, ok := convertNumbers(v).(map[string]interface{})
	if !ok {
		return nil, errors.New("document is not an object")
	}
	return u, nil
}

func convertNumbers(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []interface{}:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func nameAndExpectation(u map[string]interface{}) (string, string) {
	md, _ := u["metadata"].(map[string]interface{})
	name, _ := md["name"].(string)
	annotations, _ := md["annotations"].(map[string]interface{})
	expect, _ := annotations[expectAnnotation].(string)
	return name, expect
}

func main() {
	defaultedDir := flag.String("defaulted", "", "write accepted objects after defaulting to this directory")
	verbose := flag.Bool("v", false, "print every case")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: schemacheck [-defaulted DIR] [-v] CRD.yaml OBJECTS.yaml...")
		os.Exit(2)
	}
	passed, failed := 0, 0
	report := func(ok bool, what, detail string) {
		if ok {
			passed++
		} else {
			failed++
		}
		if !ok || *verbose {
			status := "ok  "
			if !ok {
				status = "FAIL"
			}
			fmt.Printf("%s %s: %s\n", status, what, detail)
		}
	}
	c, err := loadCRD(flag.Arg(0))
	if err != nil {
		report(false, "crd", err.Error())
		fmt.Printf("%d passed, %d failed\n", passed, failed)
		os.Exit(1)
	}
	report(true, "crd", "accepted")
	n := 0
	for _, path := range flag.Args()[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for i := 0; ; i++ {
			doc, err := reader.Read()
			if err == io.EOF {
				break
			}
			where := fmt.Sprintf("%s[%d]", filepath.Base(path), i)
			if err != nil {
				report(false, where, err.Error())
				break
			}
			u, err := decode(doc)
			if err != nil {
				report(false, where, err.Error())
				continue
			}
			if u == nil {
				continue
			}
			name, expect := nameAndExpectation(u)
			where += " " + name
			errs := c.admit(u)
			got := ""
			if agg := errs.ToAggregate(); agg != nil {
				got = agg.Error()
			}
			switch {
			case expect == "" && got == "":
				report(true, where, "accepted")
			case expect == "":
				report(false, where, "want accepted, got: "+got)
			case got == "":
				report(false, where, fmt.Sprintf("want error containing %q, got accepted", expect))
			default:
				report(strings.Contains(got, expect), where, fmt.Sprintf("want error containing %q, got: %s", expect, got))
			}
			if got == "" && *defaultedDir != "" {
				n++
				out, _ := json.MarshalIndent(u, "", "  ")
				file := filepath.Join(*defaultedDir, fmt.Sprintf("%03d-%s.json", n, name))
				if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
			}
		}
		f.Close()
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
