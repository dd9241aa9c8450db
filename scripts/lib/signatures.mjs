// The JS against its .d.ts, signature by signature: what api-check.mjs adds
// to "exports the values the .d.ts declares". For each value a .d.ts
// declares and its JS exports (each entry's JS files, and each JS module
// with a hand-written .d.ts beside it), the JS's own type, read by the
// TypeScript compiler from its code and JSDoc, must fit the declaration:
// - a function: no more parameters than the declaration's longest overload
//   (one the JS takes and the types hide is a mismatch) and no fewer than
//   every overload requires (one the types demand and the JS ignores), each
//   declared parameter type accepted by the JS's (a JS parameter with a
//   default takes undefined), and the JS's return type assignable to the
//   declared one;
// - a class: the constructor's parameters as a function's; every declared
//   member of the declared class itself (not those of its base, such as
//   HTMLElement's) present in the JS (own, inherited, or given by wrap.js's
//   passOn(), whose list is checked against wrap.d.ts's PassedOn) with a
//   type assignable to the declared one; no public member
//   of the JS class the .d.ts lacks (a custom element's lifecycle callbacks
//   aside);
// - anything else: its type assignable to the declared one.
// A JS class stands for its declared class of the same name (they are
// compared member by member), so a function returning one is compared by
// the class's name. JS parameters without a JSDoc type are `any` and accept
// anything: they are counted, and printed with the summary
// (KAIWA_API_UNTYPED=1 lists them).

import ts from 'typescript';

// A custom element's callbacks: public in the JS because the browser calls them, not API.
const LIFECYCLE = new Set(['connectedCallback', 'disconnectedCallback', 'attributeChangedCallback', 'adoptedCallback']);

/**
 * Runs the checks on `pairs` ([js, dts] file pairs, all in `program`) and
 * reports each through `check(name, problems)`. Returns the JS parameters
 * without a type (`what name`).
 */
export function checkSignatures(program, pairs, check) {
	const checker = program.getTypeChecker();
	const text = (type) => checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation);
	const resolved = (symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
	const exportsOf = (file) => {
		const symbol = checker.getSymbolAtLocation(program.getSourceFile(file));
		return symbol ? checker.getExportsOfModule(symbol) : [];
	};
	const inDts = (symbol) => symbol.declarations?.some((d) => d.getSourceFile().isDeclarationFile) ?? false;

	// The JS classes and the declared classes they stand for, by name.
	const classes = new Map();
	for (const [js, dts] of pairs) {
		const declared = new Map(exportsOf(dts).map((s) => [s.name, resolved(s)]));
		for (const s of exportsOf(js)) {
			const own = resolved(s);
			const twin = declared.get(s.name);
			if (twin && own.flags & ts.SymbolFlags.Class && twin.flags & ts.SymbolFlags.Class && !inDts(own)) classes.set(own, twin);
		}
	}
	// Whether `source` may be used where `target` is wanted; a JS class's instance and its declared class's
	// count as one (they are compared member by member on their own), also as Promise<X> or X | null.
	const fits = (source, target) => {
		if (checker.isTypeAssignableTo(source, target)) return true;
		const strip = (t) => (t.isUnion() ? t.types.filter((u) => !(u.flags & ts.TypeFlags.Nullable)) : [t]);
		const [a, b] = [strip(source), strip(target)];
		if (a.length !== 1 || b.length !== 1) return false;
		const canon = (t) => {
			const symbol = t.getSymbol() ?? t.aliasSymbol;
			return symbol && (classes.get(symbol) ?? symbol);
		};
		if (canon(a[0]) === undefined || canon(a[0]) !== canon(b[0])) return false;
		const [args, wanted] = [checker.getTypeArguments(a[0]) ?? [], checker.getTypeArguments(b[0]) ?? []];
		return args.every((t, i) => wanted[i] === undefined || fits(t, wanted[i]));
	};
	const withoutUndefined = (t) => (t.isUnion() ? checker.getUnionType(t.types.filter((u) => !(u.flags & ts.TypeFlags.Undefined))) : t);
	const optional = (p) => {
		const d = p.valueDeclaration;
		return d !== undefined && ts.isParameter(d) && (d.initializer !== undefined || d.questionToken !== undefined);
	};

	const untyped = [];
	// A type parameter on either side (`<T>(payload: T) => T`) is left to the type tests: the two are not one T.
	const generic = (t) => (t.flags & ts.TypeFlags.TypeParameter) !== 0;
	/** What differs between the JS's signatures and the declared ones. */
	const compareSignatures = (what, jsSigs, dtsSigs, returns = true) => {
		if (dtsSigs.length === 0) return [];
		if (jsSigs.length !== 1) return [`${what}: the JS has ${jsSigs.length} signatures, expected one implementation`];
		const [impl] = jsSigs;
		const problems = [];
		const params = impl.getParameters();
		const rest = impl.getDeclaration()?.parameters?.some((p) => p.dotDotDotToken) ?? false;
		untyped.push(...params.filter((p) => checker.getTypeOfSymbol(p).flags & ts.TypeFlags.Any).map((p) => `${what} ${p.name}`));
		const declaredMax = Math.max(...dtsSigs.map((s) => s.getParameters().length));
		const requiredMin = Math.min(...dtsSigs.map((s) => s.minArgumentCount));
		const dtsRest = dtsSigs.some((s) => s.getDeclaration()?.parameters?.some((p) => p.dotDotDotToken));
		const names = params.map((p) => p.name).join(', ');
		if (!rest && !dtsRest && params.length > declaredMax)
			problems.push(`${what}: the JS takes ${params.length} parameters (${names}), the .d.ts declares at most ${declaredMax}`);
		if (!rest && params.length < requiredMin)
			problems.push(`${what}: the JS takes ${params.length} parameters (${names}), the .d.ts requires ${requiredMin}`);
		for (const sig of dtsSigs) {
			const shown = checker.signatureToString(sig, undefined, ts.TypeFormatFlags.NoTruncation);
			sig.getParameters().forEach((p, i) => {
				const ours = params[Math.min(i, params.length - 1)];
				if (ours === undefined || (i >= params.length && !rest)) return;
				let jsType = checker.getTypeOfSymbol(ours);
				if (rest && i >= params.length - 1) jsType = checker.getIndexTypeOfType(jsType, ts.IndexKind.Number) ?? jsType;
				const dtsType = optional(ours) ? withoutUndefined(checker.getTypeOfSymbol(p)) : checker.getTypeOfSymbol(p);
				if (!generic(jsType) && !generic(dtsType) && !checker.isTypeAssignableTo(dtsType, jsType) && !fits(dtsType, jsType))
					problems.push(
						`${what}: parameter ${ours.name} is ${text(jsType)} in the JS, which does not take ${text(dtsType)} of ${shown}`
					);
			});
			const [got, wanted] = [impl.getReturnType(), sig.getReturnType()];
			if (returns && !generic(got) && !generic(wanted) && !fits(got, wanted))
				problems.push(`${what}: returns ${text(got)} in the JS, not assignable to ${text(wanted)} of ${shown}`);
		}
		return problems;
	};

	// Members wrap.js's passOn(Wrapper) gives a class: those of the declared PassedOn type.
	const passedOn = (jsClass) => {
		const file = jsClass.valueDeclaration?.getSourceFile();
		const calls = file?.statements.some(
			(s) =>
				ts.isExpressionStatement(s) &&
				ts.isCallExpression(s.expression) &&
				s.expression.expression.getText() === 'passOn' &&
				s.expression.arguments[0]?.getText() === jsClass.name
		);
		return calls ? wrapperMembers() : new Set();
	};
	let wrapped = null;
	const wrapperMembers = () => {
		if (wrapped) return wrapped;
		const wrap = program.getSourceFiles().find((f) => f.fileName.endsWith('js/core/wrap.d.ts'));
		const alias = wrap && checker.getExportsOfModule(checker.getSymbolAtLocation(wrap)).find((s) => s.name === 'PassedOn');
		const keys = alias?.declarations?.[0]?.type?.typeArguments?.[1];
		wrapped = new Set(keys ? (checker.getTypeFromTypeNode(keys).types?.map((t) => t.value) ?? []) : []);
		return wrapped;
	};

	const compareClass = (name, jsClass, dtsClass) => {
		const problems = [];
		const jsStatic = checker.getTypeOfSymbol(jsClass);
		const dtsStatic = checker.getTypeOfSymbol(dtsClass);
		problems.push(...compareSignatures(`new ${name}()`, jsStatic.getConstructSignatures(), dtsStatic.getConstructSignatures(), false));
		const jsType = checker.getDeclaredTypeOfSymbol(jsClass);
		const dtsType = checker.getDeclaredTypeOfSymbol(dtsClass);
		const given = passedOn(jsClass);
		const ownOf = (cls) => (member) => member.declarations?.some((d) => cls.declarations?.includes(d.parent)) ?? false;
		for (const member of checker.getPropertiesOfType(dtsType).filter(ownOf(dtsClass))) {
			const ours = checker.getPropertyOfType(jsType, member.name);
			const declared = checker.getTypeOfSymbol(member);
			if (!ours) {
				if (!given.has(member.name) && !(member.flags & ts.SymbolFlags.Optional))
					problems.push(`${name}.${member.name}: declared, not in the JS`);
				continue;
			}
			const actual = checker.getTypeOfSymbol(ours);
			const [jsSigs, dtsSigs] = [actual.getCallSignatures(), declared.getCallSignatures()];
			if (dtsSigs.length > 0 && ours.flags & ts.SymbolFlags.Method)
				problems.push(...compareSignatures(`${name}.${member.name}()`, jsSigs, dtsSigs));
			else if (!fits(actual, declared))
				problems.push(`${name}.${member.name}: ${text(actual)} in the JS, not assignable to ${text(declared)}`);
		}
		for (const member of checker.getPropertiesOfType(jsType).filter(ownOf(jsClass))) {
			const hidden = member.name.startsWith('#') || member.name.startsWith('__') || LIFECYCLE.has(member.name);
			if (!hidden && !checker.getPropertyOfType(dtsType, member.name) && !given.has(member.name))
				problems.push(`${name}.${member.name}: public in the JS, not declared`);
		}
		return problems;
	};

	// What passOn() gives is what the .d.ts's PassedOn says a wrapper has: wrap.js's PASSED_ON and READ_THROUGH.
	const wrapJs = program.getSourceFiles().find((f) => f.fileName.endsWith('js/core/wrap.js'));
	if (wrapJs) {
		const listed = [];
		wrapJs.forEachChild(function visit(node) {
			if (ts.isVariableDeclaration(node) && ['PASSED_ON', 'READ_THROUGH'].includes(node.name.getText()))
				listed.push(...(node.initializer?.elements ?? []).map((e) => e.text));
			node.forEachChild(visit);
		});
		const declared = wrapperMembers();
		check(`js/core/wrap.js: passOn() gives exactly the members wrap.d.ts's PassedOn declares (${declared.size})`, [
			...[...declared].filter((m) => !listed.includes(m)).map((m) => `PassedOn declares ${m}, PASSED_ON and READ_THROUGH lack it`),
			...listed.filter((m) => !declared.has(m)).map((m) => `wrap.js passes on ${m}, PassedOn lacks it`),
			...(declared.size === 0 ? ['no PassedOn type found in js/core/wrap.d.ts'] : [])
		]);
	}

	const seen = new Set();
	for (const [js, dts] of pairs) {
		const declared = new Map(exportsOf(dts).map((s) => [s.name, resolved(s)]));
		const problems = [];
		let compared = 0;
		for (const s of exportsOf(js)) {
			const own = resolved(s);
			const twin = declared.get(s.name);
			// Not declared: the exports check says so. From a .d.ts: compared where that .d.ts's JS is.
			if (!twin || !(twin.flags & ts.SymbolFlags.Value) || inDts(own) || seen.has(own)) continue;
			seen.add(own);
			compared++;
			if (own.flags & ts.SymbolFlags.Class && twin.flags & ts.SymbolFlags.Class) {
				problems.push(...compareClass(s.name, own, twin));
				continue;
			}
			const [actual, wanted] = [checker.getTypeOfSymbol(own), checker.getTypeOfSymbol(twin)];
			const [jsSigs, dtsSigs] = [actual.getCallSignatures(), wanted.getCallSignatures()];
			if (dtsSigs.length > 0) problems.push(...compareSignatures(`${s.name}()`, jsSigs, dtsSigs));
			else if (!fits(actual, wanted)) problems.push(`${s.name}: ${text(actual)} in the JS, not assignable to ${text(wanted)}`);
		}
		if (compared > 0) check(`${js}: its ${compared} own exports have the signatures ${dts} declares`, problems);
	}
	return untyped;
}
